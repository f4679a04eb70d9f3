import { defineErrors } from '../../errors/app-error.ts';

export const RolloutErrors = defineErrors({
  rollout_feature_unknown: {
    status: 404,
    title: 'No such rollout feature',
    description: 'Rules exist for passkey_button, autofill, append_prompt and passkey_first_signup.',
  },
  rollout_rule_invalid: {
    status: 400,
    title: 'The rollout rule is not valid',
    description: 'The detail names the field: a percentage from 0 to 100 with at most two decimals, known platforms, lists of at most 1,000 short entries.',
  },
});
