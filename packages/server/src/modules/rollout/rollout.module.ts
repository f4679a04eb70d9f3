export { createRolloutService, type RolloutService, type RolloutRuleInput, type RecentDevice } from './rollout.service.ts';
export { ROLLOUT_FEATURES, family, type RolloutFeature, type RolloutOutcome, type RolloutRule, type RolloutSubject } from './rollout.rules.ts';
export { RolloutErrors } from './rollout.errors.ts';
