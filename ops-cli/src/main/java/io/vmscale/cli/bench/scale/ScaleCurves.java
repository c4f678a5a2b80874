package io.vmscale.cli.bench.scale;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.ToDoubleFunction;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CombinedDomainXYPlot;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** The scale bench's figures as curves over the number of replicas (log scale), each panel with its target. */
final class ScaleCurves {
    private ScaleCurves() {
    }

    static void write(List<ScaleBench.Figures> all, Path png) throws IOException {
        LogAxis replicas = new LogAxis("replicas (hosts: " + String.join(", ", all.stream()
                .map(f -> f.size().replicas() + " on " + f.size().hosts()).toList()) + ")");
        replicas.setBase(10);
        replicas.setSmallestValue(5);
        replicas.setTickUnit(new org.jfree.chart.axis.NumberTickUnit(1)); // 10, 100, 1000
        replicas.setNumberFormatOverride(new java.text.DecimalFormat("#,##0"));
        CombinedDomainXYPlot plot = new CombinedDomainXYPlot(replicas);
        plot.setGap(10);
        plot.add(panel("reconcile tick, ms", 50, all, new String[] {"wall p50", "wall p99", "CPU p50", "CPU p99"},
                ScaleBench.Figures::tickWallP50, ScaleBench.Figures::tickWallP99, ScaleBench.Figures::tickCpuP50,
                ScaleBench.Figures::tickCpuP99));
        plot.add(panel("ms", 1000, all, new String[] {"window full of the new load to decision (median)",
                        "the same (max)", "UP to READY (max)", "DOWN to STOPPED (max)"},
                f -> ScaleBench.median(f.sampleToDecision()), f -> ScaleBench.max(f.sampleToDecision()),
                f -> ScaleBench.max(f.upAction()), f -> ScaleBench.max(f.downAction())));
        plot.add(panel("% of one core", 25, all, new String[] {"broker", "scaler", "balancer", "libvirtd"},
                ScaleBench.Figures::brokerCpu, ScaleBench.Figures::scalerCpu, ScaleBench.Figures::balancerCpu,
                ScaleBench.Figures::libvirtdCpu));
        plot.add(panel("MB", 256, all, new String[] {"scaler heap", "scaler RSS", "broker RSS", "balancer RSS"},
                ScaleBench.Figures::scalerHeap, f -> f.scalerRss(), f -> f.brokerRss(), f -> f.balancerRss()));
        JFreeChart chart = new JFreeChart("vmscale bench scale: the control plane from 10 to 1,000 replicas "
                + "(dashed: the target)", JFreeChart.DEFAULT_TITLE_FONT, plot, true);
        chart.setBackgroundPaint(Color.WHITE);
        ChartUtils.saveChartAsPNG(png.toFile(), chart, 900, 1100);
    }

    @SafeVarargs
    private static XYPlot panel(String label, double target, List<ScaleBench.Figures> all, String[] names,
                                ToDoubleFunction<ScaleBench.Figures>... values) {
        XYSeriesCollection data = new XYSeriesCollection();
        for (int i = 0; i < values.length; i++) {
            XYSeries series = new XYSeries(label.split(",")[0] + ": " + names[i]);
            for (ScaleBench.Figures f : all) {
                series.add(f.size().replicas(), values[i].applyAsDouble(f));
            }
            data.addSeries(series);
        }
        NumberAxis axis = new NumberAxis(label);
        axis.setAutoRangeIncludesZero(true);
        XYPlot plot = new XYPlot(data, null, axis, new XYLineAndShapeRenderer(true, true));
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        ValueMarker line = new ValueMarker(target, Color.RED, new BasicStroke(1.2f, BasicStroke.CAP_BUTT,
                BasicStroke.JOIN_MITER, 1, new float[] {6, 4}, 0));
        plot.addRangeMarker(line);
        return plot;
    }
}
