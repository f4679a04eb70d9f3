import { defineErrors } from '../../errors/app-error.ts';

export const ManagementErrors = defineErrors({
  import_invalid: {
    status: 400,
    title: 'Some lines of the import are not valid',
    description: 'Nothing was imported. `lines` lists each bad line by number (from 1) with what is wrong; fix them and send the whole file again.',
  },
});
