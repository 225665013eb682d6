package io.compozy.cache.web.observe;

import jakarta.annotation.Priority;
import jakarta.inject.Inject;
import jakarta.interceptor.AroundInvoke;
import jakarta.interceptor.Interceptor;
import jakarta.interceptor.InvocationContext;

/** The one place where store operations are counted and timed (see {@link Metered}). */
@Metered
@Interceptor
@Priority(Interceptor.Priority.LIBRARY_BEFORE)
public class MeteredInterceptor {

    @Inject
    CacheMetrics metrics;

    @AroundInvoke
    Object measure(final InvocationContext invocation) throws Exception {
        if (!metrics.enabled()) {
            return invocation.proceed();
        }
        CacheMetrics.Operation operation = metrics.operation(invocation.getMethod());
        long start = System.nanoTime();
        Object result;
        try {
            result = invocation.proceed();
        } catch (Exception | Error e) {
            operation.record(start, Outcome.ofFailure(e));
            throw e;
        }
        operation.record(start, Outcome.ofResult(result, operation.absent()));
        return result;
    }
}
