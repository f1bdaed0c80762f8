export * from './catalogue';
export * from './catalogue-schema';
export * from './lottery';
export * from './periods';
export * from './policy';
export * from './vip88';
