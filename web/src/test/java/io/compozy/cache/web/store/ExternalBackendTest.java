package io.compozy.cache.web.store;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;

/**
 * The store contracts on the external Redis (distributed mode): the server REDIS_URL names, else one
 * the harness starts for this JVM.
 */
// The nested classes are declared here rather than inherited so that each backend gets reports of its own
// (surefire names a report after the class that declares the nested class).
@Backends.OnExternal
@DisplayName("stores on the external Redis")
class ExternalBackendTest {

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
