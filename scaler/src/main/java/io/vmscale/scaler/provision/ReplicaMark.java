package io.vmscale.scaler.provision;

import java.io.StringReader;
import java.io.StringWriter;
import java.time.Instant;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.transform.OutputKeys;
import javax.xml.transform.TransformerFactory;
import javax.xml.transform.dom.DOMSource;
import javax.xml.transform.stream.StreamResult;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;

/**
 * The ownership mark: {@code <vmscale:replica group='PREFIX' number='N' created='ISO-8601' image='POOL/VOLUME' .../>} in
 * the domain's {@code <metadata>}. The scaler writes it into every domain it defines, whatever the
 * template says, and in template mode touches only domains that carry its group's mark.
 */
final class ReplicaMark {
    private ReplicaMark() {
    }

    /**
     * The domain XML with the mark set on our metadata element (created when the template has none).
     *
     * @param image the base image it boots ({@code POOL/VOLUME}), "" for the built-in guest (no attribute)
     */
    static String stamp(String domainXml, String group, int number, Instant created, String image) {
        try {
            DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
            factory.setNamespaceAware(true);
            factory.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            Document doc = factory.newDocumentBuilder().parse(new InputSource(new StringReader(domainXml)));
            Element domain = doc.getDocumentElement();
            Element metadata = child(domain, "metadata");
            if (metadata == null) {
                metadata = doc.createElement("metadata");
                domain.insertBefore(metadata, domain.getFirstChild());
            }
            NodeList marks = metadata.getElementsByTagNameNS(Endpoints.NAMESPACE, "replica");
            Element mark = marks.getLength() > 0 ? (Element) marks.item(0) : null;
            if (mark == null) {
                mark = doc.createElementNS(Endpoints.NAMESPACE, "vmscale:replica");
                metadata.appendChild(mark);
            }
            mark.setAttribute("group", group);
            mark.setAttribute("number", Integer.toString(number));
            mark.setAttribute("created", created.toString());
            if (!image.isEmpty()) {
                mark.setAttribute("image", image);
            }
            var transformer = TransformerFactory.newInstance().newTransformer();
            transformer.setOutputProperty(OutputKeys.OMIT_XML_DECLARATION, "yes");
            StringWriter out = new StringWriter();
            transformer.transform(new DOMSource(doc), new StreamResult(out));
            return out.toString();
        } catch (Exception e) {
            throw new ProvisioningException("the replica template does not render to well-formed domain XML: "
                    + e.getMessage(), e);
        }
    }

    private static Element child(Element parent, String name) {
        for (var node = parent.getFirstChild(); node != null; node = node.getNextSibling()) {
            if (node instanceof Element e && name.equals(e.getLocalName() == null ? e.getTagName() : e.getLocalName())) {
                return e;
            }
        }
        return null;
    }
}
