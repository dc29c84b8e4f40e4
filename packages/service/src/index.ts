export { defineService, runtimeConfig, serviceConfig, type Dependency, type Dependencies, type HttpOptions, type RunningService, type Service, type ServiceContext, type ServiceDefinition, type StartOptions } from './define-service.ts';
export { ApiError, UnavailableError, invalidInput, parseInput, type CommonErrorCode, type ErrorCode, type FieldError, type InputPart } from './api-error.ts';
export { answerBadUrl, sendApiError, setJsonErrors, type JsonErrorOptions } from './json-errors.ts';
export { backoffDelay, retry, sleep, type BackoffPolicy, type RetryOptions } from '@pushtech/backoff';
export { healthPaths, json, noContent, openApiSchema, openApiTransform, refusal, requiredHeaders, trimmedText, unavailable, type OpenApiHeader } from './openapi.ts';
