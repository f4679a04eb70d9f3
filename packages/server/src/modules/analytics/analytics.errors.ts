import { defineErrors } from '../../errors/app-error.ts';

export const AnalyticsErrors = defineErrors({
  analytics_range_invalid: {
    status: 400,
    title: 'The date range is not valid',
    description: '`from` and `to` are UTC days (YYYY-MM-DD), `from` not after `to`, at most LATCHKEY_ANALYTICS_MAX_RANGE_DAYS days apart.',
  },
});
