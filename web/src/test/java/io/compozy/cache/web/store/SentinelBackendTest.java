package io.compozy.cache.web.store;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;

/**
 * The store contracts on Redis Sentinel: REDIS_SENTINEL_NODES, else the group
 * the harness starts once for this JVM (the client finds the master through the sentinels).
 */
// The nested classes are declared here rather than inherited so that each backend gets reports of its own
// (surefire names a report after the class that declares the nested class).
@Backends.OnSentinel
@DisplayName("stores on Redis Sentinel (1 master, 1 replica, 3 sentinels)")
class SentinelBackendTest {

    @Nested
    class Memory extends MemoryStoreContract {
    }

    @Nested
    class Resources extends ResourceStoreContract {
    }

    @Nested
    class TaskConfigs extends TaskConfigStoreContract {
    }

    @Nested
    class Webhooks extends WebhookIdempotencyContract {
    }

    @Nested
    class Mcps extends McpDefinitionStoreContract {
    }

    @Nested
    class EventStream extends ExecutionEventStreamContract {
    }

    @Nested
    class Locks extends LockManagerContract {
    }

    @Nested
    class Notifications extends NotificationSystemContract {
    }

    @Nested
    class KeyLayout extends KeyLayoutMigrationContract {
    }
}
