// The upstream filters that apply a fallback Switchboard prepared up front. The router-level
// ext_proc filter translates the next chain steps along with attempt 1 and hands them to Envoy as
// dynamic metadata (extproc/pipeline/prepared-fallbacks.ts). On every attempt, inside the chain
// cluster: a header_mutation filter writes the chosen endpoint's step (from its metadata) into a
// header, Lua reads it and either leaves attempt 1's request alone (the router prepared it),
// swaps in the prepared body and headers for this step, or, when nothing was prepared for it,
// marks the attempt for the upstream ext_proc filter, which runs only then.

/** The chain step of the endpoint Envoy picked for this attempt; read and removed by Lua. */
export const STEP_HEADER = 'x-sb-step';
/** Set by Lua when the upstream ext_proc filter must translate this attempt; removed by it. */
export const TRANSLATE_HEADER = 'x-sb-translate';
/** Must match extproc/pipeline/prepared-fallbacks.ts FALLBACK_METADATA_NAMESPACE. */
export const FALLBACK_NAMESPACE = 'switchboard.fallback';

// LuaJIT, run as a coroutine per attempt. body() waits for the whole (buffered) request body.
// Envoy reuses one header map for every retry, hence the explicit `remove` list of each entry.
const APPLY_PREPARED_FALLBACK = `
function envoy_on_request(handle)
  local headers = handle:headers()
  local step = headers:get('${STEP_HEADER}')
  headers:remove('${STEP_HEADER}')
  if step == '0' and headers:get('x-envoy-attempt-count') == '1' then return end
  local prepared = handle:streamInfo():dynamicMetadata():get('${FALLBACK_NAMESPACE}')
  local entry = prepared and step and prepared[step]
  local body = entry and handle:body()
  if body == nil then
    headers:replace('${TRANSLATE_HEADER}', '1')
    return
  end
  body:setBytes(entry.body)
  -- Wrappers taken before body() yielded are no longer valid.
  headers = handle:headers()
  for _, name in ipairs(entry.remove) do headers:remove(name) end
  for name, value in pairs(entry.set) do headers:replace(name, value) end
end
`;

export function stepHeaderFilter() {
  return {
    name: 'envoy.filters.http.header_mutation',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.header_mutation.v3.HeaderMutation',
      mutations: {
        request_mutations: [
          { append: { header: { key: STEP_HEADER, value: '%UPSTREAM_METADATA(switchboard:step)%' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' } },
        ],
      },
    },
  };
}

export function applyPreparedFallbackFilter() {
  return {
    name: 'envoy.filters.http.lua',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua',
      default_source_code: { inline_string: APPLY_PREPARED_FALLBACK },
    },
  };
}

/** Runs `filter` only on attempts Lua marked with the translate header. */
export function onTranslateOnly(filter: { name: string; typed_config: unknown }) {
  return {
    name: `${filter.name}.on_translate`,
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.common.matching.v3.ExtensionWithMatcher',
      extension_config: filter,
      xds_matcher: {
        matcher_list: {
          matchers: [
            {
              predicate: {
                not_matcher: {
                  single_predicate: {
                    input: { name: 'translate', typed_config: { '@type': 'type.googleapis.com/envoy.type.matcher.v3.HttpRequestHeaderMatchInput', header_name: TRANSLATE_HEADER } },
                    value_match: { exact: '1' },
                  },
                },
              },
              on_match: { action: { name: 'skip', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.common.matcher.action.v3.SkipFilter' } } },
            },
          ],
        },
      },
    },
  };
}
