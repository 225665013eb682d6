package io.compozy.cache.web.workflow;

import io.compozy.cache.web.store.StoreException;
import io.compozy.cache.web.store.resource.ResourceKey;
import io.compozy.cache.web.store.resource.ResourceStore;
import io.compozy.cache.web.store.resource.ResourceTag;
import io.compozy.cache.web.store.resource.StoredResource;
import io.compozy.cache.web.store.JsonText;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Workflow definitions are resources of type {@value #TYPE} in the resource store: versioned by ETag,
 * watchable, editable through {@code /api/resources/{project}/workflow/{id}} like any resource. They
 * are checked when loaded here and again when an execution starts (a direct PUT is not checked).
 */
@ApplicationScoped
public class WorkflowDefinitions {

    public static final String TYPE = "workflow";

    private final ResourceStore resources;
    private final WorkflowLimits limits;

    /** For CDI's proxy only. */
    protected WorkflowDefinitions() {
        this.resources = null;
        this.limits = null;
    }

    /** With the default {@link WorkflowLimits}. */
    public WorkflowDefinitions(final ResourceStore resources) {
        this(resources, new WorkflowLimits());
    }

    @Inject
    public WorkflowDefinitions(final ResourceStore resources, final WorkflowLimits limits) {
        this.resources = Objects.requireNonNull(resources, "resources");
        this.limits = Objects.requireNonNull(limits, "limits");
    }

    /** The definition, checked, within {@link WorkflowLimits#checkTasks}. */
    private WorkflowDefinition parse(final String id, final JsonValue json) {
        WorkflowDefinition definition = WorkflowDefinition.parse(id, json);
        limits.checkTasks(definition);
        return definition;
    }

    /** A checked definition and the ETag of the stored version it was read from. */
    public record Loaded(WorkflowDefinition definition, String etag) {
    }

    /**
     * The stored definition, checked.
     *
     * @throws StoreException {@code NOT_FOUND} when there is none, {@code INVALID_ARGUMENT} when it is invalid
     */
    public Loaded get(final String project, final String id) {
        StoredResource stored;
        try {
            stored = resources.get(ResourceKey.of(project, TYPE, id));
        } catch (StoreException e) {
            if (e.reason() == StoreException.Reason.NOT_FOUND) {
                throw StoreException.notFound("workflow '" + id + "' does not exist in project '" + project
                        + "'; load it with POST /api/workflows/" + project);
            }
            throw e;
        }
        JsonValue json = JsonText.parseStored(stored.json(), resources.valueKey(stored.key()));
        return new Loaded(parse(id, json), stored.etag());
    }

    /**
     * Stores a bundle {@code {"workflows":{"<id>":<definition>, ...}}}: every definition is checked
     * first, so an invalid one stores nothing.
     *
     * @return each id with the ETag of what was stored
     */
    public Map<String, String> putAll(final String project, final JsonObject workflows) {
        if (workflows.isEmpty()) {
            throw StoreException.invalid("the bundle's 'workflows' object is empty; give it {\"<id>\": <definition>}");
        }
        for (Map.Entry<String, JsonValue> entry : workflows.entrySet()) {
            ResourceKey.of(project, TYPE, entry.getKey()); // a valid project and id
            parse(entry.getKey(), entry.getValue());
        }
        Map<String, String> etags = new LinkedHashMap<>();
        for (Map.Entry<String, JsonValue> entry : workflows.entrySet()) {
            etags.put(entry.getKey(), resources.put(ResourceKey.of(project, TYPE, entry.getKey()), entry.getValue()).etag());
        }
        return etags;
    }

    /** The ids and ETags of a project's workflows. */
    public List<ResourceTag> list(final String project) {
        return resources.list(project, TYPE);
    }
}
