/**
 * Redis stores for oauth-m2m: the shared state of several authorization-server instances, a
 * fleet-wide token cache for clients, and the verifier's replay and introspection caches.
 *
 * @packageDocumentation
 */
export {
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_KEY_PREFIX,
  type RedisClient,
  type RedisStoreOptions,
  type RedisSubscriberClient,
} from './redis-connection.js'
export {
  type RedisDpopReplayStore,
  type RedisDpopReplayStoreOptions,
  redisDpopReplayStore,
} from './redis-dpop-replay-store.js'
export {
  type RedisIntrospectionCache,
  type RedisIntrospectionCacheOptions,
  redisIntrospectionCache,
} from './redis-introspection-cache.js'
export {
  DEFAULT_MAX_REGISTERED_CLIENTS,
  type RedisServerStore,
  type RedisServerStoreOptions,
  type RekeyReport,
  redisServerStore,
} from './redis-server-store.js'
export {
  type RedisTokenStore,
  type RedisTokenStoreOptions,
  redisTokenStore,
} from './redis-token-store.js'
export { SigningKeysUnreadableError } from './signing-keys-encryption.js'
