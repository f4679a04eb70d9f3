import { defineErrors } from '../../errors/app-error.ts';

export const ExperimentErrors = defineErrors({
  experiment_not_found: { status: 404, title: 'No experiment has this key' },
  experiment_exists: { status: 409, title: 'An experiment with this key exists already', description: 'Keys are unique and kept after a stop; pick another.' },
  experiment_conflict: {
    status: 409,
    title: 'Another experiment of this feature is running',
    description: 'One running experiment per feature, so that the arms of two tests never mix; stop it first.',
  },
  experiment_state: { status: 409, title: 'The experiment is not in a state that allows this', description: 'A draft can be started; a running experiment can be stopped; a stopped one is final.' },
  experiment_not_running: { status: 409, title: 'The experiment is not running', description: 'Exposures are recorded only while it runs; after a stop the winner is shown to everybody.' },
  variant_mismatch: {
    status: 409,
    title: 'This user is not in that variant',
    description: 'The server assigns arms; report the variant the decision answered for this user, not another.',
  },
  invalid_experiment: { status: 400, title: 'The experiment definition is not valid', description: '`detail` names the field.' },
});
