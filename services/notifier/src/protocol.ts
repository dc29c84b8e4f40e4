/**
 * What a producer of notification requests needs (the notify bridge): the
 * request and response formats, the topic spec, and the validation the
 * notifier applies — `import … from '@pushtech/notifier/protocol'`.
 */
export { parseRequest, OPERATIONS, STATUS_CLASSES, LIMITS, type PushRequest, type PushArgs, type ConnectRequest, type Style, type StyleEntry, type Operation, type StatusClass } from './request.ts';
export type { NotifyResponse } from './outcome.ts';
export { notifierTopics, responseTopicSpec } from './topics.ts';
