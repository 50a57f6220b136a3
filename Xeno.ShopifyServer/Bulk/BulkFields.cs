using GraphQL;
using Xeno.ShopifyServer.Model;

namespace Xeno.ShopifyServer;

/// <summary>
/// The bulk operation root fields. As on Shopify, an app sees and cancels only the operations its own tokens
/// started; another app's GID answers null.
/// </summary>
internal static class BulkFields
{
    /// <summary>Top-level connections a bulk query can export here: the ones the API serves.</summary>
    private static readonly HashSet<string> ServedRoots = ["orders", "customers", "products", "productVariants", "abandonedCheckouts", "webhookSubscriptions"];

    public static BulkOperation? Find(ShopifyRequestContext request, string gid) =>
        request.Shop.Bulk.FindRun(gid, request.App)?.Snapshot();

    /// <summary>The app's newest operation of the type (bulk mutations do not run here, so MUTATION answers null).</summary>
    public static BulkOperation? Current(IResolveFieldContext ctx, ShopifyRequestContext request) =>
        ctx.GetArgument<object?>("type")?.ToString() is null or "QUERY"
            ? request.Shop.Bulk.RunsOf(request.App).LastOrDefault()?.Snapshot()
            : null;

    /// <summary>The app's operations; the connection filters, sorts (newest first) and pages them.</summary>
    public static List<BulkOperation> List(ShopifyRequestContext request) =>
        request.Shop.Bulk.RunsOf(request.App).Select(r => r.Snapshot()).ToList();

    public static GraphObject RunQuery(IResolveFieldContext ctx, ShopifyRequestContext request)
    {
        var query = ctx.GetArgument<string>("query");
        var groupObjects = ctx.GetArgument<bool>("groupObjects");
        var (document, errors) = BulkQueryRules.Check(query);
        if (document is null)
            return RunQueryPayload(null, errors.Select(e => UserError(["query"], e, "INVALID")));

        var root = BulkQueryRules.RootField(document).Name.StringValue;
        if (!ServedRoots.Contains(root))
            throw new ShopifyExecutionError($"Xeno.ShopifyServer does not run bulk queries of QueryRoot.{root}; it runs {string.Join(", ", ServedRoots)}.", "NOT_IMPLEMENTED");

        var created = request.Shop.Bulk.Start(request.App, query, document, groupObjects, request.Origin, out var busy);
        return created is null
            ? RunQueryPayload(null, [UserError(null, $"A bulk query operation for this app and shop is already in progress: {busy!.Gid}.", "OPERATION_IN_PROGRESS")])
            : RunQueryPayload(created, []);
    }

    public static GraphObject Cancel(IResolveFieldContext ctx, ShopifyRequestContext request)
    {
        var run = request.Shop.Bulk.FindRun(ctx.GetArgument<string>("id"), request.App);
        if (run is null)
            return CancelPayload(null, UserError(["id"], "Bulk operation does not exist"));
        return run.RequestCancel(out var status)
            ? CancelPayload(run.Snapshot())
            : CancelPayload(run.Snapshot(), UserError(null, $"A bulk operation cannot be canceled when it is {status.ToLowerInvariant()}"));
    }

    private static GraphObject RunQueryPayload(BulkOperation? operation, IEnumerable<GraphObject> errors) =>
        new("BulkOperationRunQueryPayload", new() { ["bulkOperation"] = operation, ["userErrors"] = errors.ToList() });

    private static GraphObject CancelPayload(BulkOperation? operation, params GraphObject[] errors) =>
        new("BulkOperationCancelPayload", new() { ["bulkOperation"] = operation, ["userErrors"] = errors.ToList() });

    /// <summary>A BulkOperationUserError when <paramref name="code"/> is given, else a plain UserError (bulkOperationCancel's).</summary>
    private static GraphObject UserError(List<string>? field, string message, string? code = null) =>
        code is null
            ? new("UserError", new() { ["field"] = field, ["message"] = message })
            : new("BulkOperationUserError", new() { ["field"] = field, ["message"] = message, ["code"] = code });
}
