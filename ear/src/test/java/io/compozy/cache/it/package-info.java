/**
 * Integration tests on a real Open Liberty server. The classes directly in this package run twice,
 * once per backend (failsafe executions it-standalone and it-distributed); lifecycle/ starts and kills
 * the server itself.
 */
package io.compozy.cache.it;
