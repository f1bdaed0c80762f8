export * from './calendar';
export * from './rule-set';
export * from './score-rules';
export * from './tiers';
