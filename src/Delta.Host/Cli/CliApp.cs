using System.CommandLine;
using Delta.Abstractions.Patches;
using Delta.Abstractions.Training;
using Microsoft.Extensions.Logging;

namespace Delta.Host.Cli;

/// <summary>
/// The `delta` command line. Each built-in verb is one class (a static <c>Create(CliApp)</c> returning a
/// System.CommandLine Command, e.g. Cli/TrainVerb.cs) plus one line in <see cref="Verbs"/>: that is all it
/// takes to add one (the service's `serve` and `jobs` live under Service/ and register the same way).
/// Plugin verbs (IPluginCommands) are added after them. Every action returns 0 ok, 1 failure, 2 bad input.
/// </summary>
public sealed class CliApp(CliEnvironment env)
{
    public CliEnvironment Env { get; } = env;

    public static readonly Option<string?> DeviceOption = new("--device") { Description = "cpu, cuda or cuda:N (overrides the job file)", Recursive = true };
    public static readonly Option<bool> JsonOption = new("--json") { Description = "machine-readable output on stdout", Recursive = true };

    /// <summary>The frozen-base speed modes of train, eval and predict (docs/PERFORMANCE.md); each verb adds these
    /// options to itself and reads them with <see cref="FrozenBaseModeOf"/>.</summary>
    public static Option<bool> FusedOption() => new("--fused") { Description = "fused fp32 frozen base: BatchNorms folded into the convolutions, channels-last (what ONNX Runtime runs; equal to the exact mode up to fp32 rounding)" };
    public static Option<bool> FastOption() => new("--fast") { Description = "bf16 fast mode: frozen base in bfloat16 + channels-last with BatchNorms folded, Δ-modules and heads fp32 (docs/PERFORMANCE.md has its numerical difference)" };

    public static Training.FrozenBaseMode FrozenBaseModeOf(ParseResult parse, Option<bool> fused, Option<bool> fast,
        Option<bool>? deltaBf16 = null, Option<bool>? autocast = null)
    {
        bool Given(Option<bool>? option) => option is not null && parse.GetValue(option);
        var (isFused, isFast, isDeltaBf16, isAutocast) = (parse.GetValue(fused), parse.GetValue(fast), Given(deltaBf16), Given(autocast));
        if (isFused && isFast) throw new BadInputException("--fused and --fast are two different modes; pick one.");
        if (isDeltaBf16 && !isFast) throw new BadInputException("--delta-bf16 goes with --fast (it changes how the fast mode runs the Δ-modules).");
        if (isAutocast && !isFast) throw new BadInputException("--autocast goes with --fast (it changes how the fast mode runs the Δ-modules).");
        if (isAutocast && isDeltaBf16) throw new BadInputException("--autocast already computes the Δ convolutions in bf16; drop --delta-bf16.");
        return isFast ? (isAutocast ? Training.FrozenBaseMode.FastAutocast : isDeltaBf16 ? Training.FrozenBaseMode.FastDeltaBf16 : Training.FrozenBaseMode.Fast)
            : isFused ? Training.FrozenBaseMode.Fused : Training.FrozenBaseMode.Exact;
    }

    /// <summary>The built-in verbs, in `--help` order: name (reserved, plugins may not reuse it) and factory.</summary>
    public static readonly IReadOnlyList<(string Name, Func<CliApp, Command> Create)> Verbs =
    [
        ("plugins", PluginsVerb.Create),
        ("backbones", BackbonesVerb.Create),
        ("train", TrainVerb.Create),
        ("eval", EvalVerb.Create),
        ("predict", PredictVerb.Create),
        ("patches", PatchesVerb.Create),
        ("serve", Service.ServeVerb.Create),
        ("jobs", Service.JobsVerb.Create),
    ];

    /// <summary>Names of the built-in verbs (plugins may not reuse them).</summary>
    public static IReadOnlyList<string> BuiltInVerbs { get; } = [.. Verbs.Select(v => v.Name)];

    public RootCommand Build()
    {
        var root = new RootCommand("Delta: Δ-patching of frozen pretrained CNNs. Task types are plugins in plugins/.");
        root.Options.Add(DeviceOption);
        root.Options.Add(JsonOption);
        foreach (var (name, create) in Verbs)
        {
            var command = create(this);
            if (command.Name != name) throw new InvalidOperationException($"Verb table says '{name}' but the factory built '{command.Name}'.");
            root.Subcommands.Add(command);
        }
        foreach (var plugin in Env.Catalog.Plugins)
            foreach (var command in plugin.Commands)
                root.Subcommands.Add(PluginVerb.Create(this, plugin, command));
        return root;
    }

    public async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken cancellationToken)
    {
        var parse = Build().Parse(args);
        if (parse.Errors.Count > 0 && parse.Action is not System.CommandLine.Help.HelpAction)
        {
            foreach (var e in parse.Errors) Console.Error.WriteLine($"delta: {e.Message}");
            Console.Error.WriteLine("Run 'delta --help' for usage.");
            return ExitCodes.BadInput;
        }
        return await parse.InvokeAsync(null, cancellationToken);
    }

    /// <summary>Runs a verb body, turning exceptions into the documented exit codes with a clear message.</summary>
    public async Task<int> Guard(Func<Task<int>> body)
    {
        var log = Env.Loggers.CreateLogger("delta");
        try { return await body(); }
        catch (Delta.Abstractions.InputException e) { Console.Error.WriteLine($"delta: {e.Message}"); return ExitCodes.BadInput; }   // BadInputException, data readers, plugins
        catch (PatchException e) { Console.Error.WriteLine($"delta: {e.Message}"); return ExitCodes.BadInput; }
        catch (FileNotFoundException e) { Console.Error.WriteLine($"delta: {e.Message}"); return ExitCodes.BadInput; }
        catch (InvalidDataException e) { Console.Error.WriteLine($"delta: {e.Message}"); return ExitCodes.BadInput; }
        catch (OperationCanceledException) { Console.Error.WriteLine("delta: cancelled."); return ExitCodes.Failure; }
        catch (NonFiniteLossException e) { Console.Error.WriteLine($"delta: training failed: {e.Message}"); return ExitCodes.Failure; }
        catch (Exception e)
        {
            log.LogError(e, "Failed");
            Console.Error.WriteLine($"delta: failed: {e.GetType().Name}: {e.Message}");
            return ExitCodes.Failure;
        }
    }
}
