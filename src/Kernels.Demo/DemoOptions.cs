using System.Globalization;

namespace Kernels.Demo;

/// <summary>Command-line options of the demo; <see cref="Parse"/> returns an error line instead of throwing.</summary>
public sealed record DemoOptions
{
    public string Data { get; init; } = "digits";
    public string? Path { get; init; }
    public int Epochs { get; init; } = 8;
    public int Batch { get; init; } = 50;
    public double LearningRate { get; init; } = 1e-3;
    public string Update { get; init; } = "adam";
    public int Threads { get; init; } = -1;
    public int Seed { get; init; } = 1;
    public string Out { get; init; } = "out";
    public string? Onnx { get; init; }
    public bool Help { get; init; }

    public const string Usage = """
        Trains a ThreeLayerConvNet (conv - relu - 2x2 max pool - affine - relu - affine - softmax) on the Kernels SIMD kernels.

        Usage: dotnet run -c Release --project src/Kernels.Demo -- [options]
          --data digits|cifar10   data set (default digits: the 10,000 embedded MNIST digits, split 8000/1000/1000)
          --path DIR              folder with CIFAR-10's data_batch_1..5.bin and test_batch.bin (required for cifar10)
          --epochs N              passes over the training set (default 8)
          --batch N               images per step (default 50)
          --lr X                  learning rate (default 0.001)
          --update RULE           adam | sgd | momentum | rmsprop (default adam)
          --threads N             threads per kernel; -1 = all cores (default -1). Results do not depend on it.
          --seed N                seed of initialisation and sampling (default 1)
          --out DIR               where the plot and checkpoint go (default out)
          --onnx FILE             also export the trained network as ONNX (opset 17), e.g. out/threelayerconvnet.onnx,
                                  and check that the exported model classifies the test set as the network does
          --help                  this text
        """;

    public static (DemoOptions? Options, string? Error) Parse(string[] args)
    {
        var o = new DemoOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            if (a is "--help" or "-h") return (o with { Help = true }, null);
            if (!a.StartsWith("--", StringComparison.Ordinal)) return (null, $"unexpected argument '{a}' (see --help)");
            if (i + 1 >= args.Length) return (null, $"option {a} needs a value (see --help)");
            string v = args[++i];
            switch (a)
            {
                case "--data" when v is "digits" or "cifar10": o = o with { Data = v }; break;
                case "--data": return (null, $"--data must be digits or cifar10, not '{v}'");
                case "--path": o = o with { Path = v }; break;
                case "--epochs": if (!PositiveInt(v, out int e)) return (null, $"--epochs must be a whole number >= 1, not '{v}'"); o = o with { Epochs = e }; break;
                case "--batch": if (!PositiveInt(v, out int b)) return (null, $"--batch must be a whole number >= 1, not '{v}'"); o = o with { Batch = b }; break;
                case "--lr":
                    if (!double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double lr) || !double.IsFinite(lr) || lr <= 0)
                        return (null, $"--lr must be a number > 0, not '{v}'");
                    o = o with { LearningRate = lr };
                    break;
                case "--update" when v is "adam" or "sgd" or "momentum" or "rmsprop": o = o with { Update = v }; break;
                case "--update": return (null, $"--update must be adam, sgd, momentum or rmsprop, not '{v}'");
                case "--threads":
                    if (!int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int t) || (t < 1 && t != -1))
                        return (null, $"--threads must be -1 or a whole number >= 1, not '{v}'");
                    o = o with { Threads = t };
                    break;
                case "--seed": if (!int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int s)) return (null, $"--seed must be a whole number, not '{v}'"); o = o with { Seed = s }; break;
                case "--out": o = o with { Out = v }; break;
                case "--onnx": o = o with { Onnx = v }; break;
                default: return (null, $"unknown option {a} (see --help)");
            }
        }
        if (o.Data == "cifar10" && o.Path is null) return (null, "--data cifar10 needs --path DIR with the CIFAR-10 binary files");
        if (o.Path is not null && !Directory.Exists(o.Path)) return (null, $"--path {o.Path} is not a folder");
        return (o, null);
    }

    private static bool PositiveInt(string v, out int value) =>
        int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out value) && value >= 1;
}
