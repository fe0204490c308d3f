export { createLogger, LOG_LEVELS, type LogLevel, type Logger } from './logger';
export { EXIT_CONFIG, runService, type ServiceDefinition } from './run-service';
export { AppProcess, type AppProcessOptions } from './app-process';
export { startGrpcServer, type GrpcServer, type GrpcServerOptions } from './grpc-server';
