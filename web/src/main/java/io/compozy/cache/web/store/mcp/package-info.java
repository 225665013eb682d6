/**
 * The MCP definition store: validated JSON definitions at {@code {mcp_proxy:mcps:<name>}} and their status
 * at {@code {mcp_proxy:mcps:<name>}:status}, one hash tag per name.
 */
package io.compozy.cache.web.store.mcp;
