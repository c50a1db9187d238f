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
    public static ValidatedJob Validate(string json, string source, CliEnvironment env) =>
        JobFile.Parse(json, source, env.Catalog, env.Registry, env.Paths.DataRoot);
}

/// <summary>The service's <see cref="IJobValidator"/>: HTTP submissions pass the CLI's checks.</summary>
public sealed class HostJobValidator(CliEnvironment env) : IJobValidator
{
    public JobSubmission Validate(string jobJson, string? idempotencyKey)
    {
        ValidatedJob job;
        try { job = JobJson.Validate(jobJson, "job", env); }
        catch (BadInputException e) { throw new JobValidationException(e.Message.Split(Environment.NewLine)); }
        // A check that crashed on this job's content (a path with a NUL byte, say) says something about the job, not
        // the service: the submitter gets 400 and the message, not a bare 500.
        catch (Exception e) when (e is not OperationCanceledException) { throw new JobValidationException([$"job: {e.GetType().Name}: {e.Message}"]); }
        // Checked again when the job runs (a patch may appear meanwhile): here, so that the submitter hears it now.
        try { JobPatchStore.EnsureFree(env.Patches, job.Spec.Name); }
        catch (BadInputException e) { throw new JobValidationException([e.Message]); }
        // The original text is stored: the executor validates it again when the job runs (files may have changed).
        // The device goes in under its canonical name: workers claim by exact match, so "CPU" or "cuda" as written
        // would wait forever on a host serving "cpu" or "cuda:0".
        return new JobSubmission(job.Spec.Name, DeviceParser.Name(job.Device), jobJson, idempotencyKey);
    }
}
