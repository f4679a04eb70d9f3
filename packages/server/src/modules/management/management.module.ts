export { createManagementService, type ManagementService, type UserLookup, type Page } from './management.service.ts';
