export { createExperimentsService, CONTROL, type ExperimentsService, type Assignment, type NewExperiment } from './experiments.service.ts';
export { createExperimentsRepository, EXPERIMENT_FEATURES, CONVERSION_METRICS, type Experiment, type ExperimentFeature, type ConversionMetric } from './experiments.repository.ts';
export { ExperimentErrors } from './experiments.errors.ts';
export { analyse, type ExperimentResult } from './experiments.stats.ts';
