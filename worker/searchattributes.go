package worker

import (
	"context"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"

	"livret/workflows"
)

// RegisterSearchAttributes declares Livret's search attributes in a namespace (idempotent:
// those already there are left alone). The operator filters runs by them in the Temporal UI.
func RegisterSearchAttributes(ctx context.Context, c client.Client, namespace string) error {
	want := map[string]enumspb.IndexedValueType{
		workflows.SchoolIDKey.GetName():     enumspb.INDEXED_VALUE_TYPE_INT,
		workflows.OfficeIDKey.GetName():     enumspb.INDEXED_VALUE_TYPE_INT,
		workflows.BusinessDateKey.GetName(): enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	}
	have, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return fmt.Errorf("list search attributes: %w", err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	for name, typ := range want {
		if _, ok := have.GetCustomAttributes()[name]; !ok {
			missing[name] = typ
		}
	}
	if len(missing) == 0 {
		return nil
	}
	_, err = c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace: namespace, SearchAttributes: missing,
	})
	if err != nil {
		return fmt.Errorf("add search attributes: %w", err)
	}
	return nil
}
