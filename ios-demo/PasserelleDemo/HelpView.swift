import PasserelleDemoKit
import SwiftUI
import UIKit

/// "Give support access": the steps in HubRise's back office, with the configured e-mail.
struct HelpView: View {
    let support: SupportAccess
    let text: DemoText

    var body: some View {
        NavigationStack {
            List {
                Section(support.title) {
                    Text(support.explanation)
                    ForEach(Array(support.steps.enumerated()), id: \.offset) { index, step in
                        Text("\(index + 1). \(step)")
                    }
                    Button(text.copyEmail) { UIPasteboard.general.string = support.email }
                }
                Section {
                    Text(support.screenAwakeHelp)
                }
            }
            .navigationTitle(text.tabHelp)
        }
    }
}

#Preview("Aide") {
    HelpView(support: SessionModel.preview().support, text: DemoText(language: .french))
}
