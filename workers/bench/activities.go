package bench

import (
	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/workers"
	"github.com/tzurot/tzurot/workers/systemtest"
)

// newActivities builds activities over the same services the worker uses, for the
// inline baseline.
func newActivities(sys *systemtest.System) *activities.Activities {
	return workers.NewActivities(sys.Services)
}
