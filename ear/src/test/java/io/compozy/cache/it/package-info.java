/**
 * Integration tests on a real Open Liberty server. The classes directly in this package run once per
 * backend (failsafe executions it-standalone, it-distributed on one Redis, it-cluster and it-sentinel on the
 * harness's Redis Cluster and Sentinel group); topology/ runs after them in the last two (it kills a master);
 * lifecycle/ starts and kills the server itself.
 */
package io.compozy.cache.it;
