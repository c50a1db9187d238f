using Delta.Backbones.Runtime;
using static TorchSharp.torch;

namespace Delta.Backbones.Tests.Runtime;

/// <summary>The cuDNN autotuning switch reaches libtorch's global flag. The flag lives in libtorch_cpu, so this runs
/// on the CPU build; what it changes on a GPU is measured by the bench, not here.</summary>
[Collection(nameof(CudnnAutotuneTests))]   // one global flag: never in parallel with itself
public class CudnnAutotuneTests
{
    [Fact]
    public void SettingTheFlagIsReadBackFromLibtorchAndCanBeUndone()
    {
        _ = zeros(1);   // make sure the native libraries are loaded the way TorchSharp loads them
        var before = CudnnAutotune.IsEnabled;
        Assert.NotNull(before);
        try
        {
            Assert.True(CudnnAutotune.TrySet(!before!.Value, out var problem), problem);
            Assert.Equal(!before.Value, CudnnAutotune.IsEnabled);
            Assert.True(CudnnAutotune.TrySet(before.Value, out problem), problem);
            Assert.Equal(before.Value, CudnnAutotune.IsEnabled);
        }
        finally { CudnnAutotune.TrySet(before!.Value, out _); }
    }

    [Fact]
    public void TheOptOutVariableKeepsTheDefaultHeuristics()
    {
        _ = zeros(1);
        var before = CudnnAutotune.IsEnabled!.Value;
        var variable = Environment.GetEnvironmentVariable(CudnnAutotune.OptOutVariable);
        try
        {
            Environment.SetEnvironmentVariable(CudnnAutotune.OptOutVariable, "0");
            Assert.Null(CudnnAutotune.EnableForCuda());
            Assert.False(CudnnAutotune.IsEnabled);
            Environment.SetEnvironmentVariable(CudnnAutotune.OptOutVariable, null);
            Assert.Null(CudnnAutotune.EnableForCuda());
            Assert.True(CudnnAutotune.IsEnabled);
        }
        finally
        {
            Environment.SetEnvironmentVariable(CudnnAutotune.OptOutVariable, variable);
            CudnnAutotune.TrySet(before, out _);
        }
    }
}
