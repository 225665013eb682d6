/**
 * A minimal workflow runner: the reference consumer of every store, as the orchestration engine uses
 * them. Not an engine: tasks run in order, an {@code agent} task is a deterministic stand-in for an
 * LLM, a {@code tool} task is one of a few built-in functions, and each task's output is the next
 * one's input.
 *
 * <ul>
 *   <li>Definitions are resources of type {@value io.compozy.cache.web.workflow.WorkflowDefinitions#TYPE}
 *       in the resource store ({@link io.compozy.cache.web.workflow.WorkflowDefinitions}).</li>
 *   <li>An execution ({@link io.compozy.cache.web.workflow.WorkflowRunner}) runs on the server's
 *       managed executor, holds {@code lock:execution:{id}}, writes each task's config to the task
 *       config store, publishes on {@code workflow:{execId}} and {@code task:{taskExecId}}, appends every
 *       step to the execution event stream and the agents' turns to the memory store.</li>
 *   <li>Its state is one JSON document in Redis ({@link io.compozy.cache.web.workflow.ExecutionStore}),
 *       so it outlives the JVM like everything else the stores keep.</li>
 * </ul>
 */
package io.compozy.cache.web.workflow;
