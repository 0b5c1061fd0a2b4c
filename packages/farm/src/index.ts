export type { FarmClientOptions, FarmRender, FarmSubmitOptions } from './client.ts';
export { FarmClient, farmRender } from './client.ts';
export { checkRedis, parseQueueUrl, redactUrl, redisConnection } from './connection.ts';
export type { FarmErrorCode } from './errors.ts';
export { FARM_ERRORS, FarmError, FarmRenderError, RedisUnreachableError } from './errors.ts';
export type {
  ChunkJobData,
  ChunkJobResult,
  ChunkProgress,
  ModelPin,
  ResourceClass,
  StitchJobData,
  StitchJobResult,
} from './protocol.ts';
export { chunkJobId, chunkQueueName, PREFIX, renderIdOf, STITCH_QUEUE } from './protocol.ts';
export type { FarmRenderOptions, FarmRenderResult } from './submit.ts';
export type { FarmWorker, FarmWorkerEvent, FarmWorkerOptions } from './worker.ts';
export { startFarmWorker } from './worker.ts';
