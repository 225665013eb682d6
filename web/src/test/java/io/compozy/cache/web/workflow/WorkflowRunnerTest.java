package io.compozy.cache.web.workflow;

import io.compozy.cache.web.store.Backends;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;

/** The workflow runner on both real backends, like the store contracts. */
class WorkflowRunnerTest {

    @Nested
    @Backends.OnEmbedded
    @DisplayName("on the embedded redis-server")
    class OnEmbedded extends WorkflowRunnerContract {
    }

    @Nested
    @Backends.OnExternal
    @DisplayName("on the external Redis")
    class OnExternal extends WorkflowRunnerContract {
    }
}
