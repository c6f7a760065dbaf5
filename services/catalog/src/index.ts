export * from './catalog.module';
export * from './persistence/catalog-repository';
export * from './persistence/catalog.migrations';
export * from './domain/ranking';
