package io.compozy.cache.web.workflow;

import jakarta.annotation.Resource;
import jakarta.enterprise.concurrent.ManagedExecutorService;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.concurrent.Executor;

/**
 * The server's default managed executor (Jakarta Concurrency), on which executions run. There is
 * deliberately no fallback: without the {@code concurrent-3.0} feature the application fails to
 * deploy rather than run executions on threads the server does not manage.
 */
@ApplicationScoped
public class ManagedWorkflowExecutor {

    @Resource(lookup = "java:comp/DefaultManagedExecutorService")
    private ManagedExecutorService executor;

    public Executor executor() {
        return executor;
    }
}
