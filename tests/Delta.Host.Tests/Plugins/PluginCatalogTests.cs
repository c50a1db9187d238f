using Delta.Abstractions.Backbones;
using Delta.Abstractions.Patches;
using Delta.Abstractions.Plugins;
using Delta.Host;
using Delta.Host.Cli;
using Delta.Host.Plugins;
using Delta.Host.Tests.Support;

namespace Delta.Host.Tests.Plugins;

/// <summary>Discovery and failure isolation against real, separately built plugin assemblies (TestPlugins/).</summary>
public sealed class PluginCatalogTests : IDisposable
{
    private readonly string temp = Directory.CreateTempSubdirectory("delta-catalog-").FullName;
    public void Dispose() => Directory.Delete(temp, recursive: true);

    private static string ErrorFor(PluginCatalog catalog, string name) =>
        Assert.Single(catalog.Errors, e => e.Path.Contains($"/{name}/", StringComparison.Ordinal)).Reason;

    [Fact]
    public void Good_plugin_loads_and_every_broken_one_is_reported_with_path_and_reason()
    {
        var folder = TestPaths.PluginsFolder(temp, TestPaths.AllTestPlugins);
        var catalog = PluginCatalog.Load(folder, CliApp.BuiltInVerbs);

        var echo = Assert.Single(catalog.Plugins);
        Assert.Equal("echo", echo.Info.Id);
        Assert.Equal(Path.Combine(folder, "EchoPlugin", "EchoPlugin.dll"), echo.AssemblyPath);
        Assert.Equal(["demo"], echo.Commands.Select(c => c.Name));

        Assert.Contains("already taken", ErrorFor(catalog, "EchoTwinPlugin"));
        Assert.Contains("ThrowingPlugin refuses to start", ErrorFor(catalog, "ThrowingPlugin"));
        Assert.Contains("contract version 0", ErrorFor(catalog, "OldContractPlugin"));
        Assert.Contains("MissingDependency.Lib", ErrorFor(catalog, "MissingDependencyPlugin"));
        Assert.Contains("train", ErrorFor(catalog, "VerbClashPlugin"));
        Assert.DoesNotContain(catalog.Errors, e => e.Path.Contains("NoTaskPlugin", StringComparison.Ordinal));
        Assert.Equal(5, catalog.Errors.Count);
    }

    [Fact]
    public void Contract_types_are_shared_with_the_host()
    {
        var catalog = PluginCatalog.Load(TestPaths.PluginsFolder(temp, "EchoPlugin"), CliApp.BuiltInVerbs);
        var plugin = Assert.Single(catalog.Plugins).Plugin;
        // The options type's interface is the host's ITaskOptions, so the host can bind and validate it.
        Assert.True(typeof(ITaskOptions).IsAssignableFrom(plugin.OptionsType));
        var options = (ITaskOptions)Activator.CreateInstance(plugin.OptionsType)!;
        Assert.Empty(options.Validate());
        // TorchSharp and the contracts as the plugin's own load context resolves them (asked directly: the plugin itself
        // never touches a tensor, so listing the process's assemblies would prove nothing) are the host's assemblies,
        // or tensors and options could not cross between host and plugin.
        var pluginContext = System.Runtime.Loader.AssemblyLoadContext.GetLoadContext(plugin.GetType().Assembly)!;
        Assert.NotSame(System.Runtime.Loader.AssemblyLoadContext.Default, pluginContext);              // really loaded apart
        Assert.Same(typeof(TorchSharp.torch).Assembly, pluginContext.LoadFromAssemblyName(typeof(TorchSharp.torch).Assembly.GetName()));
        Assert.Same(typeof(ITaskOptions).Assembly, pluginContext.LoadFromAssemblyName(typeof(ITaskOptions).Assembly.GetName()));
    }

    [Fact]
    public void Folder_without_its_dll_is_reported_and_missing_plugins_folder_is_empty()
    {
        var folder = TestPaths.PluginsFolder(temp, "EchoPlugin");
        Directory.CreateDirectory(Path.Combine(folder, "Stray"));
        var catalog = PluginCatalog.Load(folder, CliApp.BuiltInVerbs);
        Assert.Single(catalog.Plugins);
        var stray = Assert.Single(catalog.Errors);
        Assert.Equal(Path.Combine(folder, "Stray"), stray.Path);
        Assert.Contains("no Stray.dll", stray.Reason, StringComparison.Ordinal);

        var none = PluginCatalog.Load(Path.Combine(temp, "nope"), CliApp.BuiltInVerbs);
        Assert.Empty(none.Plugins);
        Assert.Empty(none.Errors);
    }

    /// <summary>eval and predict take a patch name; when the plugin that saved the patch is not loaded, the message names the
    /// patch file and the plugin, and points at `delta plugins` (where a load error would be).</summary>
    [Fact]
    public void A_patch_of_a_plugin_not_loaded_is_refused_naming_the_patch_file()
    {
        var catalog = PluginCatalog.Load(TestPaths.PluginsFolder(temp, "EchoPlugin"), CliApp.BuiltInVerbs);
        var manifest = new PatchManifest
        {
            Architecture = "tiny_resnet", BaseWeights = "random", BaseWeightsSha256 = "00", Delta = new DeltaConfig(), PluginId = "deeplabv3", Task = "voc",
        };
        var path = Path.Combine(temp, "patches", "seg.dpatch");
        var e = Assert.Throws<BadInputException>(() => catalog.ForPatch(new PatchSummary("seg", path, 10, manifest)));
        Assert.Equal($"{path}: a patch of plugin 'deeplabv3', which is not loaded (see `delta plugins` for load errors). Loaded: echo.", e.Message);
        Assert.Equal("echo", catalog.ForPatch(new PatchSummary("e", path, 10, manifest with { PluginId = "ECHO" })).Info.Id);
    }

    [Fact]
    public void Plugin_builds_hold_only_their_own_files()
    {
        foreach (var name in TestPaths.AllTestPlugins)
        {
            var files = Directory.GetFiles(Path.Combine(TestPaths.BuiltTestPlugins, name)).Select(f => Path.GetFileName(f)).Order().ToArray();
            Assert.Equal([name + ".deps.json", name + ".dll", name + ".pdb"], files);
        }
    }

    [Fact]
    public void Unknown_plugin_id_lists_the_loaded_ones()
    {
        var catalog = PluginCatalog.Load(TestPaths.PluginsFolder(temp, "EchoPlugin"), CliApp.BuiltInVerbs);
        var e = Assert.Throws<BadInputException>(() => catalog.Get("nope"));
        Assert.Contains("Loaded: echo", e.Message);
    }
}
