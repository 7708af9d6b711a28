"""Use cases: plain async functions of (context, arguments) returning records. No GraphQL here."""
