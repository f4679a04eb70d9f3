/** The public contract of the Latchkey HTTP API: shapes and error codes for the SDK and elements. */
export * from './schemas.ts';
