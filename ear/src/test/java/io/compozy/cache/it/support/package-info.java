/**
 * The integration-test harness: where the Liberty server under test lives, how a failsafe execution
 * chooses its backend, and how lifecycle tests start, kill and read a real server.
 */
package io.compozy.cache.it.support;
