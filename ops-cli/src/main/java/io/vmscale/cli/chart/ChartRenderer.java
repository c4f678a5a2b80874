package io.vmscale.cli.chart;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.io.File;
import java.io.IOException;
import java.util.List;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.DateAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CombinedDomainXYPlot;
import org.jfree.chart.plot.IntervalMarker;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.renderer.xy.XYStepRenderer;
import org.jfree.chart.ui.Layer;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * Draws a {@link ChartModel.Snapshot} with JFreeChart: CPU % per VM with the HIGH and LOW thresholds,
 * the replica count on a second axis, decisions and failures as labelled markers; below it, the
 * balancer's throughput and p99 latency.
 */
final class ChartRenderer {
    private static final Font MARKER_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 10);

    private final CombinedDomainXYPlot combined;
    private final XYPlot cpuPlot;
    private final XYPlot lbPlot;
    private final JFreeChart chart;

    ChartRenderer(String title) {
        DateAxis time = new DateAxis("time");
        combined = new CombinedDomainXYPlot(time);
        combined.setGap(8);

        NumberAxis cpuAxis = new NumberAxis("CPU %");
        cpuAxis.setRange(0, 110);
        cpuPlot = new XYPlot(null, null, cpuAxis, new XYLineAndShapeRenderer(true, false));
        NumberAxis replicaAxis = new NumberAxis("replicas");
        replicaAxis.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        cpuPlot.setRangeAxis(1, replicaAxis);
        XYStepRenderer step = new XYStepRenderer();
        step.setSeriesPaint(0, Color.BLACK);
        step.setSeriesStroke(0, new BasicStroke(2.5f));
        step.setSeriesPaint(1, Color.GRAY); // the warm pool, dashed
        step.setSeriesStroke(1, new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
                new float[] {6f, 4f}, 0f));
        cpuPlot.setRenderer(1, step);
        combined.add(cpuPlot, 3);

        NumberAxis rateAxis = new NumberAxis("answers/s");
        rateAxis.setAutoRangeMinimumSize(10);
        lbPlot = new XYPlot(null, null, rateAxis, new XYLineAndShapeRenderer(true, false));
        NumberAxis latencyAxis = new NumberAxis("p99 ms");
        latencyAxis.setAutoRangeMinimumSize(1);
        lbPlot.setRangeAxis(1, latencyAxis);
        XYLineAndShapeRenderer latency = new XYLineAndShapeRenderer(true, false);
        latency.setSeriesPaint(0, new Color(200, 80, 0));
        lbPlot.setRenderer(1, latency);
        combined.add(lbPlot, 2);

        chart = new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, combined, true);
        chart.setBackgroundPaint(Color.WHITE);
    }

    JFreeChart chart() {
        return chart;
    }

    /** Puts the snapshot's data in the chart (call on the Swing thread when the chart is on screen). */
    void show(ChartModel.Snapshot s) {
        XYSeriesCollection cpu = new XYSeriesCollection();
        s.cpu().forEach((domain, points) -> cpu.addSeries(series(domain + " CPU %", points)));
        cpuPlot.setDataset(0, cpu);
        XYSeriesCollection replicas = new XYSeriesCollection();
        replicas.addSeries(series("READY replicas", s.replicas()));
        if (!s.pool().isEmpty()) {
            replicas.addSeries(series("warm pool (parked)", s.pool()));
        }
        cpuPlot.setDataset(1, replicas);
        cpuPlot.mapDatasetToRangeAxis(1, 1);
        double most = s.replicas().stream().mapToDouble(ChartModel.Point::value).max().orElse(1);
        cpuPlot.getRangeAxis(1).setRange(0, Math.max(2, most + 1));

        cpuPlot.clearRangeMarkers();
        cpuPlot.addRangeMarker(threshold("HIGH " + fmt(s.high()) + " %", s.high(), new Color(200, 0, 0)));
        cpuPlot.addRangeMarker(threshold("LOW " + fmt(s.low()) + " %", s.low(), new Color(0, 90, 200)));
        cpuPlot.clearDomainMarkers();
        for (ChartModel.Span span : s.calibrations()) { // the CPU under them is the measurement's, not load
            IntervalMarker band = new IntervalMarker(span.from().toEpochMilli(), span.to().toEpochMilli(),
                    new Color(120, 120, 120, 40));
            band.setLabel(span.label());
            band.setLabelFont(MARKER_FONT);
            band.setLabelPaint(Color.DARK_GRAY);
            band.setLabelAnchor(RectangleAnchor.LEFT); // half-way up: the decisions' labels are at the top and bottom
            band.setLabelTextAnchor(TextAnchor.CENTER_LEFT);
            cpuPlot.addDomainMarker(0, band, Layer.BACKGROUND);
        }
        int i = 0;
        for (ChartModel.Marker m : s.markers()) {
            ValueMarker marker = new ValueMarker(m.at().toEpochMilli());
            marker.setPaint(switch (m.kind()) {
                case UP -> new Color(0, 150, 0);
                case DOWN -> new Color(230, 140, 0);
                case REPLACE -> new Color(130, 0, 160);
                case FAILED -> Color.RED;
                case MIGRATE -> new Color(0, 110, 160);
            });
            marker.setStroke(new BasicStroke(1.5f));
            marker.setLabel(m.label());
            marker.setLabelFont(MARKER_FONT);
            marker.setLabelPaint(marker.getPaint());
            // alternate label heights so that markers close together stay readable
            marker.setLabelAnchor(i++ % 2 == 0 ? RectangleAnchor.TOP_RIGHT : RectangleAnchor.BOTTOM_RIGHT);
            marker.setLabelTextAnchor(i % 2 == 1 ? TextAnchor.TOP_LEFT : TextAnchor.BOTTOM_LEFT);
            cpuPlot.addDomainMarker(0, marker, Layer.FOREGROUND);
        }

        XYSeriesCollection rate = new XYSeriesCollection();
        rate.addSeries(series("answers/s", s.throughput()));
        lbPlot.setDataset(0, rate);
        XYSeriesCollection p99 = new XYSeriesCollection();
        if (!s.p99().isEmpty()) { // none from a traffic driver: no line at a made-up 0 ms, no axis
            p99.addSeries(series("p99 latency ms", s.p99()));
        }
        lbPlot.getRangeAxis(1).setVisible(!s.p99().isEmpty());
        lbPlot.setDataset(1, p99);
        lbPlot.mapDatasetToRangeAxis(1, 1);
    }

    private static ValueMarker threshold(String label, double value, Color color) {
        ValueMarker marker = new ValueMarker(value, color, new BasicStroke(1.2f, BasicStroke.CAP_BUTT,
                BasicStroke.JOIN_MITER, 1, new float[] {6, 4}, 0));
        marker.setLabel(label);
        marker.setLabelFont(MARKER_FONT);
        marker.setLabelPaint(color);
        marker.setLabelAnchor(RectangleAnchor.TOP_LEFT);
        marker.setLabelTextAnchor(TextAnchor.BOTTOM_LEFT);
        return marker;
    }

    private static XYSeries series(String name, List<ChartModel.Point> points) {
        XYSeries series = new XYSeries(name, true, true);
        points.forEach(p -> series.addOrUpdate(p.at().toEpochMilli(), p.value()));
        return series;
    }

    private static String fmt(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }

    void writePng(File file, int width, int height) throws IOException {
        ChartUtils.saveChartAsPNG(file, chart, width, height);
    }
}
