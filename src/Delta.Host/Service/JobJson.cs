using System.Text.Json;
using System.Text.Json.Nodes;
using Delta.Abstractions.Plugins;
using Delta.Host.Cli;
using Delta.Host.Jobs;
using Delta.Service.Jobs;

namespace Delta.Host.Service;

/// <summary>
/// A job file's text through exactly the CLI's validation (<see cref="JobFile.Validate"/>): the API and
/// `delta train` accept and refuse the same jobs, with the same messages.
/// </summary>
public static class JobJson
{
    public static ValidatedJob Validate(string json, string source, CliEnvironment env)
    {
        JsonNode? root;
        try { root = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }); }
        catch (JsonException e) { throw new BadInputException($"{source}: not valid JSON: {e.Message}"); }
        if (root is not JsonObject obj) throw new BadInputException($"{source}: a job is a JSON object.");
        var optionsNode = obj["options"];
        obj.Remove("options");
        JobSpec spec;
        try { spec = obj.Deserialize<JobSpec>(JobFile.JsonOptions) ?? throw new BadInputException($"{source}: empty job."); }
        catch (JsonException e) { throw new BadInputException($"{source}: {(e.Path is { Length: > 1 } p ? p.TrimStart('$', '.') + ": " : "")}{e.Message.Split(" Path:")[0]}"); }
        catch (ArgumentException e) { throw new BadInputException($"{source}: {e.Message}"); }
        return JobFile.Validate(spec, optionsNode, source, env.Catalog, env.Registry, env.Paths.DataRoot);
    }
}

/// <summary>The service's <see cref="IJobValidator"/>: HTTP submissions pass the CLI's checks.</summary>
public sealed class HostJobValidator(CliEnvironment env) : IJobValidator
{
    public JobSubmission Validate(string jobJson, string? idempotencyKey)
    {
        ValidatedJob job;
        try { job = JobJson.Validate(jobJson, "job", env); }
        catch (BadInputException e) { throw new JobValidationException(e.Message.Split(Environment.NewLine)); }
        // The original text is stored: the executor validates it again when the job runs (files may have changed).
        // The device goes in under its canonical name: workers claim by exact match, so "CPU" or "cuda" as written
        // would wait forever on a host serving "cpu" or "cuda:0".
        return new JobSubmission(job.Spec.Name, DeviceParser.Name(job.Device), jobJson, idempotencyKey);
    }
}
