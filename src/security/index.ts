// Public surface of the security helpers (SSRF policy, allow-lists, rate limits, guard).
export { createAddressPolicy, parseCidr, type AddressPolicy, type AddressPolicyOptions, type PolicyAddress } from './address-policy.ts';
export { createAccessControl, type AccessCheck, type AccessOptions } from './access.ts';
export { createCheckRateLimiter, TokenBuckets, type BucketSpec, type CheckRateLimiter, type CheckRateLimitOptions, type LimitDecision } from './rate-limit.ts';
export { createCommandGuard, type CommandGuard, type GuardOptions } from './guard.ts';
