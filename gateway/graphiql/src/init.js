// Renders GraphiQL into #graphiql; the page gives the endpoints as data- attributes.
(function () {
  var root = document.getElementById('graphiql');
  var fetcher = GraphiQL.createFetcher({
    url: root.dataset.endpoint,
    subscriptionUrl: root.dataset.subscriptions,
  });
  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: root.dataset.query,
      // Partners put their key here; it goes with every request and websocket connection.
      defaultHeaders: '{\n  "Authorization": ""\n}',
      defaultEditorToolsVisibility: 'headers',
    })
  );
})();
