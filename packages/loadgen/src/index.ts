export * from './model';
export * from './poster';
export * from './random';
