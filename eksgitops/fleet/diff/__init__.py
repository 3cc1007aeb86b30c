"""What merging a revision does to the cluster: `eksgitops fleet diff`.

Public entry::

    from eksgitops.fleet.diff.run import diff
    result = diff(repo, "main", "my-branch", creds, VerifyRequest.from_flags("clusters/dev"))
    result.changes        # -> list[Change]: create, update (with fields) or delete, per owner
    result.exit_code()    # the exit code of `fleet diff`

1. run.py: one clone; base, then head, walked and built as `fleet verify` does (same sandbox, same
   build cache, so the builds a change does not touch come from the cache); head is verified;
2. compare.py: objects matched by cluster, API group, kind, namespace and name; fields.py lists
   the changed paths (Secret values masked); prune.py decides what the agent really deletes;
   destructive.py flags what destroys data or hits an immutable field;
3. lines.py (terminal), document.py (`--json`, diff.schema.json), markdown.py (`--markdown`).
"""
