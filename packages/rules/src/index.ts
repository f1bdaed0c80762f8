export * from './calendar';
export * from './rule-set';
export * from './score';
export * from './score-batch';
export * from './score-fold';
export * from './score-rules';
export * from './score-simulation';
export * from './score-window';
