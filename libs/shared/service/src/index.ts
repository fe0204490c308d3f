export { createLogger, LOG_LEVELS, type LogLevel, type Logger } from './logger';
export { EXIT_CONFIG, runService, type ServiceDefinition } from './run-service';
export { startGrpcServer, type GrpcServer, type GrpcServerOptions } from './grpc-server';
export { Backoff, type BackoffOptions } from './backoff';
export { DOMAIN_ERROR_KINDS, DomainError, grpcErrorOf, grpcStatusOf, httpStatusOf, REASON_TRAILER, type DomainErrorKind } from './domain-error';
export { GroupCommit, type GroupCommitSettings } from './group-commit';
export { InFlight } from './in-flight';
export { WakeableLoop, type WakeableLoopOptions } from './wakeable-loop';
