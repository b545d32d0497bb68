package audit_test

import "go.opentelemetry.io/otel/attribute"

type attributeKV = attribute.KeyValue
