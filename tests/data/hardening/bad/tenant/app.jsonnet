{ apiVersion: "v1", kind: "ConfigMap" }
// expect-file: unrendered-template (Jsonnet is reported at line 1)
