/**
 * The MCP definition store: validated JSON definitions at {@code mcp_proxy:mcps:{name}} and their status
 * at {@code mcp_proxy:status:{name}}.
 */
package io.compozy.cache.web.store.mcp;
