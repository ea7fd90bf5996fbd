// What the DocC articles' code leaves to the app, so check-apple-sources.sh can type-check it:
// the app's own root view.
import Passerelle
import SwiftUI

struct RootView: View {
    let model: PasserelleModel
    var body: some View { InboxView(model: model) }
}
