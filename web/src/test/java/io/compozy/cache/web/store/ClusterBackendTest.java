package io.compozy.cache.web.store;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;

/**
 * The store contracts on a Redis Cluster: REDIS_CLUSTER_NODES, else the 3-master/3-replica one
 * the harness starts once for this JVM. Every multi-key operation must stay in one hash slot here.
 */
// The nested classes are declared here rather than inherited so that each backend gets reports of its own
// (surefire names a report after the class that declares the nested class).
@Backends.OnCluster
@DisplayName("stores on a Redis Cluster (3 masters, 3 replicas)")
class ClusterBackendTest {

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
