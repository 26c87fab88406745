// Starts GraphiQL against this server: queries and mutations over HTTP at
// /graphql, subscriptions over WebSocket at /graphql (graphql-transport-ws).
// With authentication on, add {"Authorization": "Bearer <API key>"} in the
// Headers tab (WebSocket subscriptions from a browser cannot send it).
(function () {
  var loc = window.location;
  var wsScheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  var fetcher = GraphiQL.createFetcher({
    url: loc.origin + '/graphql',
    subscriptionUrl: wsScheme + '//' + loc.host + '/graphql',
  });
  var defaultQuery = [
    '# Ratchet GraphQL API. Try:',
    '#   mutation { executeTask(taskId: "addition", input: {num1: 2, num2: 3}) { execution { status output } } }',
    '#   subscription { workerStatus { type worker { id status } } }',
    '',
    '{',
    '  tasks(limit: 10) {',
    '    total',
    '    items { id name version enabled }',
    '  }',
    '  jobStats { total active byStatus { status count } }',
    '}',
    '',
  ].join('\n');
  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(React.createElement(GraphiQL, {
    fetcher: fetcher,
    defaultQuery: defaultQuery,
    defaultEditorToolsVisibility: true,
    shouldPersistHeaders: true,
  }));
})();
