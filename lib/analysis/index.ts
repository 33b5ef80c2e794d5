/**
 * The governance analysis (synth time): pure functions over a plain model
 * (model.ts). The construct builds the model at synth; the CLI reads the
 * report. Internal: not part of the public API.
 */
export * from './model';
export * from './action-catalogue';
export * from './action-expansion';
export * from './shadow';
export * from './compliance';
export * from './store-inventory';
export * from './governance-report';
export { StoreIndex, serviceOf } from './store-match';
export { wildcardMatches, wildcardsIntersect, wildcardCovers } from './wildcard';
