export { createManagementService, type ManagementService, type UserLookup, type Page } from './management.service.ts';
export { encodeCursor, decodeCursor } from './management.cursor.ts';
