package io.compozy.cache.web.workflow;

/** A task could not produce an output; the message, written for the workflow's author, fails the execution. */
public class TaskFailure extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public TaskFailure(final String message) {
        super(message);
    }
}
